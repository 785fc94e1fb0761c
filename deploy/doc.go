// Package deploy holds the actions that change the hosts as lists of
// steps: deploy (its preflight first), reset and stop (deploy.go, reset.go,
// stop.go; one step a file, step_*.go), the deploy lock among them; the
// roll (roll_plan.go, roll_gate.go, roll.go, apply.go, dryrun.go), the
// start of the servers that are down (startdown.go), `zkctl check`
// (check*.go), the wait for quorum that reset and the roll share, and
// `zkctl status` (status.go: the servers and their versions, the task
// system, the network faults). Each action is a function over a
// *controller.Cluster, which gives it the hosts' connections, the agent
// client and the progress output.
//
// It imports controller, deploy/inventory, deploy/transport, node and its
// protocol, schema, zksession and internal helpers; never roles/… nor
// history/….
package deploy

import "zkctl/controller"

// cluster is a controller.Cluster as the steps see it: the receiver of
// deploy's own methods.
type cluster struct{ *controller.Cluster }
