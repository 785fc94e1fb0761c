package inventory

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"os/user"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kevinburke/ssh_config"
)

// DefaultSSHConfig is the ssh_config read when [ssh] ssh_config is unset
// (and only when it exists).
const DefaultSSHConfig = "~/.ssh/config"

// sshConfig is an OpenSSH client configuration ([ssh] ssh_config): the
// Host aliases of the operator's ~/.ssh/config and what they say about
// reaching a host. Parsing, Host patterns (wildcards, negation) and
// Include are kevinburke/ssh_config's; this file decides which directives
// zkctl follows, which it may pass over, and which it refuses.
type sshConfig struct {
	path  string // as the inventory or the default names it, for messages
	cfg   *ssh_config.Config
	match []int // the lines of the Match directives, in order
}

// sshHostConfig is what an ssh_config says about one alias; "" and 0 for
// what it does not say.
type sshHostConfig struct {
	HostName, User, IdentityFile, ProxyJump, HostKeyAlias, KnownHosts string
	Port                                                              int
	ConnectTimeout                                                    time.Duration
}

// The directives of an ssh_config, by what zkctl does with them (lower
// case). Followed: sshFollowed. Passed over, because they change neither
// which host is reached, as whom, nor how it is trusted: sshHarmless.
// Every other directive in a block that applies to a host is refused with
// its file and line: ProxyCommand, Match, CertificateFile, Ciphers, …
var (
	sshFollowed = set("host", "hostname", "user", "port", "identityfile", "proxyjump",
		"hostkeyalias", "userknownhostsfile", "connecttimeout", "include")
	sshHarmless = set("serveraliveinterval", "serveralivecountmax", "tcpkeepalive", "compression",
		"forwardagent", "forwardx11", "forwardx11trusted", "forwardx11timeout", "loglevel",
		"sendenv", "setenv", "localforward", "remoteforward", "dynamicforward", "exitonforwardfailure",
		"controlmaster", "controlpath", "controlpersist", "addkeystoagent", "usekeychain",
		"ignoreunknown", "hashknownhosts", "visualhostkey", "stricthostkeychecking",
		"updatehostkeys", "checkhostip", "batchmode", "escapechar", "requesttty",
		"identitiesonly", "preferredauthentications", "passwordauthentication",
		"pubkeyauthentication", "kbdinteractiveauthentication", "challengeresponseauthentication",
		"numberofpasswordprompts", "gssapiauthentication", "gssapidelegatecredentials",
		"protocol", "verifyhostkeydns", "clearallforwardings", "permitlocalcommand")
)

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// posRe reads the position that kevinburke/ssh_config puts before its
// parse errors: "(line, col): message".
var posRe = regexp.MustCompile(`^\((\d+), \d+\): `)

// matchRe finds a Match directive, whose line the library does not keep.
var matchRe = regexp.MustCompile(`(?i)^\s*match(\s|=)`)

// loadSSHConfig reads the ssh_config at path ("~" expanded). A missing
// file is no error when the inventory did not name it (explicit false):
// the default ~/.ssh/config need not exist.
func loadSSHConfig(path string, explicit bool) (*sshConfig, error) {
	data, err := os.ReadFile(expandHome(path))
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ssh_config: %w", err)
	}
	cfg, err := ssh_config.DecodeBytes(data)
	if err != nil {
		msg := err.Error()
		if m := posRe.FindStringSubmatch(msg); m != nil {
			return nil, fmt.Errorf("ssh_config %s:%s: %s", path, m[1], strings.TrimPrefix(msg[len(m[0]):], "ssh_config: "))
		}
		return nil, fmt.Errorf("ssh_config %s: %s", path, msg)
	}
	c := &sshConfig{path: path, cfg: cfg}
	for i, line := range strings.Split(string(data), "\n") {
		if matchRe.MatchString(line) {
			c.match = append(c.match, i+1)
		}
	}
	return c, nil
}

// lookup is what the file says about alias, the first value of each
// directive winning as in ssh. A directive zkctl does not follow, in a
// block that applies to alias, is an error naming its line (in a file the
// configuration Includes: the directive, without a line).
func (c *sshConfig) lookup(alias string) (sshHostConfig, error) {
	if err := c.unsupported(alias); err != nil {
		return sshHostConfig{}, err
	}
	get := func(key string) string {
		v, _ := c.cfg.Get(alias, key)
		return strings.TrimSpace(v)
	}
	var hc sshHostConfig
	hc.HostName = get("HostName")
	if hc.HostName == "" {
		hc.HostName = alias
	}
	if p := get("Port"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return hc, c.errorf("Port", alias, "Port %q: want 1..65535", p)
		}
		hc.Port = n
	}
	hc.User = get("User")
	hc.HostKeyAlias = get("HostKeyAlias")
	hc.ProxyJump = get("ProxyJump")
	if t := get("ConnectTimeout"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			return hc, c.errorf("ConnectTimeout", alias, "ConnectTimeout %q: want whole seconds", t)
		}
		hc.ConnectTimeout = time.Duration(n) * time.Second
	}
	tokens := func(key, v string) (string, error) {
		s, err := expandTokens(v, alias, hc)
		if err != nil {
			return "", c.errorf(key, alias, "%s %q: %v", key, v, err)
		}
		return s, nil
	}
	var err error
	if hc.HostName, err = tokens("HostName", hc.HostName); err != nil {
		return hc, err
	}
	if v := get("IdentityFile"); v != "" && !strings.EqualFold(v, "none") {
		if hc.IdentityFile, err = tokens("IdentityFile", v); err != nil {
			return hc, err
		}
	}
	if f := strings.Fields(get("UserKnownHostsFile")); len(f) > 0 && !strings.EqualFold(f[0], "none") {
		if hc.KnownHosts, err = tokens("UserKnownHostsFile", f[0]); err != nil {
			return hc, err
		}
	}
	return hc, nil
}

// unsupported reports the first directive that applies to alias and that
// zkctl neither follows nor may pass over, and a Match block that applies.
func (c *sshConfig) unsupported(alias string) error {
	matches := 0
	for _, h := range c.cfg.Hosts {
		isMatch := strings.HasPrefix(h.String(), "Match")
		if isMatch {
			matches++
		}
		if !h.Matches(alias) {
			continue
		}
		if isMatch {
			return fmt.Errorf("ssh_config %s:%d: Match is not supported for %q: write a Host block (zkctl follows Host, HostName, User, Port, IdentityFile, ProxyJump, HostKeyAlias, UserKnownHostsFile, ConnectTimeout)",
				c.path, c.matchLine(matches), alias)
		}
		for _, n := range h.Nodes {
			kv, ok := n.(*ssh_config.KV)
			if !ok {
				continue
			}
			if k := strings.ToLower(kv.Key); !sshFollowed[k] && !sshHarmless[k] {
				return unsupportedError(c.path, kv.Pos().Line, kv.Key, alias)
			}
		}
	}
	// Directives in Included files: asked for one by one.
	for _, key := range []string{"ProxyCommand", "ProxyUseFdpass", "CertificateFile", "Ciphers", "KexAlgorithms",
		"MACs", "HostKeyAlgorithms", "BindAddress", "BindInterface", "AddressFamily", "CanonicalizeHostname",
		"GlobalKnownHostsFile", "PKCS11Provider", "SecurityKeyProvider", "RemoteCommand", "LocalCommand"} {
		if v, _ := c.cfg.Get(alias, key); v != "" {
			return unsupportedError(c.path, 0, key, alias)
		}
	}
	return nil
}

func unsupportedError(path string, line int, key, alias string) error {
	where := path
	if line > 0 {
		where = fmt.Sprintf("%s:%d", path, line)
	} else {
		where += " (an Included file)"
	}
	return fmt.Errorf("ssh_config %s: %s is not supported for %q: it would change how ssh reaches the host, and zkctl does not follow it (remove it for this host, or set the host's address, user, port and jump in the inventory)",
		where, key, alias)
}

// matchLine is the line of the n-th (from 1) Match directive, 0 if unknown.
func (c *sshConfig) matchLine(n int) int {
	if n >= 1 && n <= len(c.match) {
		return c.match[n-1]
	}
	return 0
}

// errorf is an error about key's value for alias, at key's line when the
// first block that sets it for alias is in this file.
func (c *sshConfig) errorf(key, alias, format string, args ...any) error {
	where := c.path
	for _, h := range c.cfg.Hosts {
		if !h.Matches(alias) {
			continue
		}
		for _, n := range h.Nodes {
			if kv, ok := n.(*ssh_config.KV); ok && strings.EqualFold(kv.Key, key) {
				return fmt.Errorf("ssh_config %s:%d: %s", c.path, kv.Pos().Line, fmt.Sprintf(format, args...))
			}
		}
	}
	return fmt.Errorf("ssh_config %s: %s", where, fmt.Sprintf(format, args...))
}

// expandTokens expands ssh's %-tokens that zkctl knows in v: %% %h (the
// HostName) %n (the alias) %p %r %u %d, and a leading "~". Any other token
// is refused rather than passed on literally.
func expandTokens(v, alias string, hc sshHostConfig) (string, error) {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			b.WriteByte(v[i])
			continue
		}
		if i+1 == len(v) {
			return "", errors.New("a '%' at the end")
		}
		i++
		switch v[i] {
		case '%':
			b.WriteByte('%')
		case 'h':
			b.WriteString(hc.HostName)
		case 'n':
			b.WriteString(alias)
		case 'p':
			b.WriteString(strconv.Itoa(cmp.Or(hc.Port, 22)))
		case 'r':
			b.WriteString(hc.User)
		case 'u':
			u, err := user.Current()
			if err != nil {
				return "", fmt.Errorf("token %%u: %w", err)
			}
			b.WriteString(u.Username)
		case 'd':
			home, err := os.UserHomeDir()
			if err != nil {
				return "", fmt.Errorf("token %%d: %w", err)
			}
			b.WriteString(home)
		default:
			return "", fmt.Errorf("token %%%c is not supported (zkctl knows %%%% %%h %%n %%p %%r %%u %%d)", v[i])
		}
	}
	return expandHome(b.String()), nil
}

// sshConfig reads [ssh] ssh_config: the file it names, else
// DefaultSSHConfig where it exists; "" reads none. nil when there is none
// (or it failed, which is recorded).
func (v *validator) sshConfig(x any) *sshConfig {
	a := at{table: "ssh", index: -1, key: "ssh_config"}
	path, explicit := v.str(a, x)
	if !explicit {
		path = DefaultSSHConfig
	} else if path == "" {
		return nil
	} else {
		path = v.resolve(path)
	}
	c, err := loadSSHConfig(path, explicit)
	if err != nil {
		v.fail(a, "%v", err)
		return nil
	}
	return c
}

// applySSHConfig gives h what its address's ssh_config entry says where
// the inventory is silent: the address becomes the HostName (it goes into
// zoo.cfg and the roles' connection string), then User, Port,
// IdentityFile, UserKnownHostsFile, ConnectTimeout and ProxyJump, each
// hop looked up in turn. HostKeyAlias names the known_hosts entry.
func (v *validator) applySSHConfig(h *Host, set sshSet, sc *sshConfig, a at) {
	hc, err := sc.lookup(h.Address)
	if err != nil {
		v.fail(a, "%s: address %q: %v", a.label, h.Address, err)
		return
	}
	h.Address = hc.HostName
	h.SSH.HostKeyAlias = hc.HostKeyAlias
	s := &h.SSH
	if !set.user && hc.User != "" {
		s.User = hc.User
	}
	if !set.port && hc.Port != 0 {
		s.Port = hc.Port
	}
	if !set.identity && hc.IdentityFile != "" {
		s.IdentityFile = hc.IdentityFile
	}
	if !set.knownHosts && hc.KnownHosts != "" {
		s.KnownHosts = hc.KnownHosts
	}
	if !set.dialTimeout && hc.ConnectTimeout > 0 {
		s.DialTimeout = hc.ConnectTimeout
	}
	if !set.jump && hc.ProxyJump != "" && !strings.EqualFold(hc.ProxyJump, "none") {
		hops, err := parseJump(hc.ProxyJump)
		if err != nil {
			v.fail(a, "%s: address %q: ssh_config %s: ProxyJump: %v", a.label, h.Address, sc.path, err)
			return
		}
		if s.Tunnel == TunnelNever {
			v.fail(a, "%s: tunnel = false, and ssh_config %s gives a ProxyJump: behind a bastion the client port is reached only through SSH", a.label, sc.path)
		}
		s.Jump = hops
	}
	for i, hop := range s.Jump {
		s.Jump[i] = v.sshConfigHop(hop, sc, a)
	}
}

// sshConfigHop completes a jump host from its own ssh_config entry, as ssh
// does for each hop of a ProxyJump.
func (v *validator) sshConfigHop(hop Hop, sc *sshConfig, a at) Hop {
	hc, err := sc.lookup(hop.Address)
	if err != nil {
		v.fail(a, "%s: jump host %q: %v", a.label, hop.Address, err)
		return hop
	}
	hop.Address = hc.HostName
	if hop.User == "" {
		hop.User = hc.User
	}
	if hop.Port == 22 && hc.Port != 0 {
		hop.Port = hc.Port
	}
	hop.IdentityFile = hc.IdentityFile
	return hop
}
