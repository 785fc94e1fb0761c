package node

import (
	"fmt"
	"strings"
)

// RenderZooCfg renders zoo.cfg for this host: timings, data dir, the client
// endpoint, every server.N of the ensemble (none when standalone), the 4lw
// commands zkctl uses, no AdminServer, and autopurge.
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
	b.WriteString("4lw.commands.whitelist=srvr,mntr,ruok,stat\n")
	b.WriteString("admin.enableServer=false\n")
	b.WriteString("autopurge.snapRetainCount=3\nautopurge.purgeInterval=1\n")
	if len(c.Servers) > 1 {
		for _, s := range c.Servers {
			fmt.Fprintf(&b, "server.%d=%s:%d:%d\n", s.ID, s.Address, s.PeerPort, s.ElectionPort)
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
