package testlab

import "testing"

func TestVMSmoke(t *testing.T) {
	l := NewVMs(t, VMOptions{Profiles: []Profile{Fresh, NoSudo, Root}})
	for i := range l.Hosts {
		out, err := l.Run(i, "hostname; id; ls -la /work /root /home /tmp; which java; cat /etc/apt/sources.list; ls /var/lib/zkctl-testlab/repo | head -3; grep -c . /proc/mounts")
		t.Logf("%s: %s %v", l.Hosts[i].Name, out, err)
	}
	t.Log(l.Mounts())
}
