package node

import "path/filepath"

// Layout is the one description of a host's directory, <dir>, as the
// controller and the agent both use it:
//
//	<dir>/bin/zkctl             the agent (this binary)
//	<dir>/bin/zkctl.deployed    what the last deploy pushed (its sha256, the config's)
//	<dir>/conf/node.json        what the controller told this host (servers, timings, myid)
//	<dir>/conf/zoo.cfg          rendered by the agent
//	<dir>/conf/auth             the auth_file's secret, mode 0600
//	<dir>/data/                 ZooKeeper's data and myid (the only thing reset wipes)
//	<dir>/app/                  the files of other programs playing roles ([roles.*])
//	<dir>/logs/NAME.log         a process's log: zookeeper, or <role>-<id>
//	<dir>/logs.prev/            the logs before the last reset
//	<dir>/run/NAME.pid          "pid start-time" of a process the agent started
//	<dir>/run/deploy.lock       held while a deploy writes to the host
type Layout struct{ Dir string }

// Bin, Conf, Data, Logs and Run are the folders zkctl keeps under its dir.
func (l Layout) Bin() string  { return filepath.Join(l.Dir, "bin") }
func (l Layout) Conf() string { return filepath.Join(l.Dir, "conf") }
func (l Layout) Data() string { return filepath.Join(l.Dir, "data") }
func (l Layout) Logs() string { return filepath.Join(l.Dir, "logs") }
func (l Layout) Run() string  { return filepath.Join(l.Dir, "run") }

// Folders are the folders a deploy creates.
func (l Layout) Folders() []string { return []string{l.Bin(), l.Conf(), l.Logs(), l.Run()} }

// Agent is the zkctl binary on the host; DeployRecord what deploy pushed.
func (l Layout) Agent() string        { return filepath.Join(l.Bin(), "zkctl") }
func (l Layout) DeployRecord() string { return filepath.Join(l.Bin(), "zkctl.deployed") }

// ConfigFile is where the controller puts the node configuration.
func (l Layout) ConfigFile() string { return filepath.Join(l.Conf(), "node.json") }

// AuthFile is the host's copy of the auth_file.
func (l Layout) AuthFile() string { return filepath.Join(l.Conf(), "auth") }

// App is where deploy puts the files of the inventory's [roles.*] programs.
func (l Layout) App() string { return filepath.Join(l.Dir, "app") }

// LogFile is the log of process name ("zookeeper", "<role>-<id>").
func (l Layout) LogFile(name string) string { return filepath.Join(l.Logs(), name+".log") }

// Pidfile is the pidfile of process name.
func (l Layout) Pidfile(name string) string { return filepath.Join(l.Run(), name+".pid") }

// DeployLock is the lock a deploy holds on the host.
func (l Layout) DeployLock() string { return filepath.Join(l.Run(), "deploy.lock") }
