package scenario_test

import (
	"testing"

	"zkctl/deploy"
	"zkctl/internal/testlab"
)

func testPartitionChaos(t *testing.T, lab *testlab.Lab, c *deploy.Cluster) {
	t.Skip("not yet")
}
