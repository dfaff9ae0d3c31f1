package app_test

import (
	"context"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
)

// docker-compose.yml is loaded and validated with compose-go, the library
// `docker compose config` itself uses, so a file it would reject fails here.
func TestDockerComposeFileIsValid(t *testing.T) {
	opts, err := cli.NewProjectOptions([]string{"../../docker-compose.yml"},
		cli.WithWorkingDirectory("../.."), cli.WithName("casebridge"), cli.WithResolvedPaths(true))
	if err != nil {
		t.Fatal(err)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker compose would reject docker-compose.yml: %v", err)
	}
	for _, name := range []string{"postgres", "casebridge"} {
		if _, ok := project.Services[name]; !ok {
			t.Errorf("service %s missing", name)
		}
	}
	env := project.Services["casebridge"].Environment
	for _, k := range []string{"CASEBRIDGE_DATABASE_URL", "CASEBRIDGE_DATABASE_OWNER_URL"} {
		if v := env[k]; v == nil || *v == "" {
			t.Errorf("casebridge service lacks %s", k)
		}
	}
}
