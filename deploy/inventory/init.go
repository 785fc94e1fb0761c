package inventory

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"text/template"
)

// InitOptions are what `zkctl init` is told: the hosts (none: three
// servers on this machine), the login user and whether it uses sudo.
type InitOptions struct {
	Hosts []InitHost
	User  string // "" = unset: root, or the User of ssh_config
	Sudo  bool
}

// InitHost is one NAME=ADDR of `zkctl init --hosts`.
type InitHost struct{ Name, Address string }

// ParseInitHosts reads "NAME=ADDR,NAME=ADDR,…" (an ADDR may be an
// ssh_config Host alias).
func ParseInitHosts(s string) ([]InitHost, error) {
	var hosts []InitHost
	for _, part := range strings.Split(s, ",") {
		name, addr, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || name == "" || addr == "" {
			return nil, fmt.Errorf("--hosts: %q: want NAME=ADDR (ADDR an IP address, a name, or a Host alias of ~/.ssh/config), several separated by commas", part)
		}
		if strings.ContainsAny(part, "\"\\") || strings.IndexFunc(part, blank) >= 0 {
			return nil, fmt.Errorf("--hosts: %q: no spaces, quotes or backslashes", part)
		}
		hosts = append(hosts, InitHost{Name: name, Address: addr})
	}
	return hosts, nil
}

// Init renders a commented inventory for o and validates it as the file
// path: what it returns deploys as it is (or the error says why not).
func Init(path string, o InitOptions) ([]byte, error) {
	if len(o.Hosts) == 0 && (o.User != "" || o.Sudo) {
		return nil, errors.New("--user and --sudo are for SSH hosts: give them with --hosts NAME=ADDR,…")
	}
	if o.User != "" && !userNameRe.MatchString(o.User) {
		return nil, fmt.Errorf("--user %q: want a user name (lower case letters, digits, '_' and '-')", o.User)
	}
	var b strings.Builder
	if err := initTemplate.Execute(&b, o); err != nil {
		return nil, err
	}
	data := []byte(b.String())
	if _, err := Parse(path, data); err != nil {
		return nil, fmt.Errorf("the inventory init would write does not validate:\n%w", err)
	}
	return data, nil
}

// WriteNew writes data to path, which must not exist: init never
// overwrites a file.
func WriteNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists: init never overwrites a file (name another: zkctl init FILE)", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	return f.Close()
}

// Privileged reports a login that may install packages and run the
// service as run_as: root, or a user with sudo.
func (o InitOptions) Privileged() bool { return o.User == "" || o.User == "root" || o.Sudo }

var initTemplate = template.Must(template.New("inventory").Parse(`# zkctl inventory, written by ` + "`zkctl init`" + `.
# Next: ` + "`zkctl check`" + ` (a preflight that changes nothing), ` + "`zkctl deploy`" + `, ` + "`zkctl reset -y`" + `.
# Every key is described in zkctl's README ("Inventory").

[cluster]
tick_time = "2s"           # zoo.cfg tickTime
session_timeout = "10s"    # the roles' ZooKeeper session timeout: within [2, 20] ticks
client_port = 2181
peer_port = 2888
election_port = 3888
{{- if .Hosts}}
{{- if .Privileged}}
# run_as = "zookeeper"     # service user of ZooKeeper and the roles (created where missing);
                           # it must be able to reach dir: ` + "`zkctl check`" + ` says if it cannot
{{- end}}
# auth_file = "zk.secret"  # one line "user:password": digest auth + ACLs on the application's znodes

[ssh]                      # how to reach the hosts; a [host.ssh] table overrides any key
{{- if .User}}
user = "{{.User}}"
{{- else}}
# user = "root"            # the default, unless ssh_config's User says otherwise
{{- end}}
{{- if .Sudo}}
sudo = true                # passwordless sudo (NOPASSWD)
{{- else}}
# sudo = true              # a login with passwordless sudo (NOPASSWD)
{{- end}}
# port = 22
# identity_file = "~/.ssh/id_ed25519"   # else the keys of ssh-agent
# known_hosts = "~/.ssh/known_hosts"    # verified; ` + "`zkctl deploy --accept-new`" + ` adds unknown keys
# jump = "admin@bastion.example:22"     # a bastion (a chain: "a,b")
# ssh_config = "~/.ssh/config"          # read by default: Host aliases may stand as addresses;
                                        # HostName, User, Port, IdentityFile, ProxyJump apply
                                        # where this file is silent

[zookeeper]
{{- if .Privileged}}
install = "apt"            # Java and ZooKeeper from Debian's packages where missing
{{- else}}
# install = "apt"          # needs root or sudo: with a plain login, Java and ZooKeeper must be there
{{- end}}
# home = "/usr/share/zookeeper"         # auto-detected: Debian's package or an Apache release
# tarball = "apache-zookeeper-3.8.4-bin.tar.gz"   # pushed and unpacked under dir
{{range .Hosts}}
[[host]]
name = "{{.Name}}"
address = "{{.Address}}"
{{- if $.Privileged}}
dir = "/opt/zkctl"         # bin/ conf/ data/ logs/ run/ live under it
{{- else}}
dir = "/home/{{$.User}}/zkctl"   # a folder the login owns: bin/ conf/ data/ logs/ run/
{{- end}}
{{end}}
{{- else}}

# Three servers on this machine (transport "local", no SSH). For VMs:
#   zkctl init FILE --hosts vm1=10.0.0.11,vm2=10.0.0.12,vm3=10.0.0.13 --user ubuntu --sudo

[[host]]
name = "vm1"
transport = "local"
dir = ".zkctl/vm1"         # relative to this file's folder

[[host]]
name = "vm2"
transport = "local"
dir = ".zkctl/vm2"
client_port = 2182         # servers on one machine need ports of their own
peer_port = 2889
election_port = 3889

[[host]]
name = "vm3"
transport = "local"
dir = ".zkctl/vm3"
client_port = 2183
peer_port = 2890
election_port = 3890
{{- end}}
`))
