package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"zkctl/deploy/inventory"
	"zkctl/deploy/transport"
	"zkctl/node"
)

// idStep keeps myid sticky (DESIGN.md "More of the inventory"): a host once
// deployed keeps its id. The id it was deployed with is read back from its
// conf/node.json (the deploy record holds it too); an inventory that gives
// it another (a host added before it, or one removed) is refused with the
// fix: write the old id into the host's [[host]] table.
type idStep struct{}

func (idStep) Title() string { return "check myid" }

func (idStep) Run(ctx context.Context, c *cluster, h inventory.Host, t transport.Transport) error {
	was, ok := deployedID(ctx, t, h)
	if !ok || was == h.ID {
		return nil
	}
	how := "its position in the inventory makes it"
	if h.IDSet {
		how = "the inventory sets"
	}
	return fmt.Errorf("%w from %d to %d (%s %d; a deployed host keeps its id, or the ensemble would see another server): set id = %d in its [[host]]",
		errIDChanged, was, h.ID, how, h.ID, was)
}

// deployedID is the myid of the host's node configuration, ok false when
// it has none (never deployed).
func deployedID(ctx context.Context, t transport.Transport, h inventory.Host) (int, bool) {
	data, err := t.ReadFile(ctx, node.Layout{Dir: h.Dir}.ConfigFile())
	if err != nil {
		return 0, false
	}
	var nc node.Config
	if json.Unmarshal(data, &nc) != nil || nc.MyID == 0 {
		return 0, false
	}
	return nc.MyID, true
}

// errIDChanged marks a deploy refused because a host's myid would change.
var errIDChanged = errors.New("myid would change")
