package node

import (
	"fmt"
	"strings"
)

// FourLetterWords are the 4lw commands a server answers: srvr, mntr, ruok
// and stat for status and the bench, conf for the roll's check that a
// restarted server runs the configuration it was given.
const FourLetterWords = "srvr,mntr,ruok,stat,conf"

// RenderZooCfg renders zoo.cfg for this host: timings, data dir, the client
// endpoint, every server.N of the ensemble (none when standalone; an
// observer's line ends in ":observer", and an observer's own file says
// peerType=observer), the 4lw commands zkctl uses, no AdminServer, and
// autopurge.
func RenderZooCfg(c *Config) string {
	tick := c.TickTime.Milliseconds()
	var b strings.Builder
	fmt.Fprintf(&b, "# written by zkctl for host %s; do not edit, run `zkctl deploy`\n", c.Host)
	fmt.Fprintf(&b, "tickTime=%d\n", tick)
	b.WriteString("initLimit=20\nsyncLimit=10\n")
	fmt.Fprintf(&b, "dataDir=%s\n", Layout{c.Dir}.Data())
	fmt.Fprintf(&b, "clientPort=%d\n", c.ClientPort)
	if c.Address != "" {
		fmt.Fprintf(&b, "clientPortAddress=%s\n", c.Address)
	}
	b.WriteString("maxClientCnxns=0\n")
	b.WriteString("4lw.commands.whitelist=" + FourLetterWords + "\n")
	b.WriteString("admin.enableServer=false\n")
	b.WriteString("autopurge.snapRetainCount=3\nautopurge.purgeInterval=1\n")
	if len(c.Servers) > 1 {
		if self, ok := c.Self(); ok && self.Observer {
			b.WriteString("peerType=observer\n")
		}
		for _, s := range c.Servers {
			fmt.Fprintf(&b, "server.%d=%s\n", s.ID, s.Line())
		}
	}
	return b.String()
}

// log4jProperties sends ZooKeeper's log4j output to the console, which the
// node agent redirects to logs/zookeeper.log.
const log4jProperties = `log4j.rootLogger=INFO, CONSOLE
log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender
log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout
log4j.appender.CONSOLE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n
`

// Line is the server's value in a server.N line of zoo.cfg:
// "address:peer:election", with ":observer" for an observer.
func (s Server) Line() string {
	line := fmt.Sprintf("%s:%d:%d", s.Address, s.PeerPort, s.ElectionPort)
	if s.Observer {
		line += ":observer"
	}
	return line
}
