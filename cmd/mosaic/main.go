// Command mosaic is the one Mosaic binary: the server and the CLI that talks
// to it.
//
//	mosaic serve                  run the server (embedded storage in ./mosaic-data)
//	mosaic sources create NAME    create a source and print its write key
//	mosaic sources list           list sources
//	mosaic events tail            stream new events as they arrive
//	mosaic import --source S FILE import a CSV or JSON Lines file
//	mosaic profiles split REF     separate an identifier from a profile (--dry-run first)
//	mosaic identity rules         show the identity rules (--set FILE changes them)
//	mosaic predict fit            fit the prediction models now (--as-of DATE for a backtest)
//	mosaic replay                 rebuild derived state from the log (server stopped)
//	mosaic token reset            make a new admin token (server stopped)
//	mosaic token create|list|revoke  role tokens for programs
//	mosaic users add|list|remove|passwd|role  users who sign in
//	mosaic audit verify           check the audit log's hash chain
//	mosaic version                print version and commit
//
// Every flag also reads from an environment variable MOSAIC_<NAME> and from
// an optional JSON config file (--config, MOSAIC_CONFIG), in that order of
// precedence after the command line.
package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/trace"

	"github.com/alecthomas/kong"
)

// CLI is the whole command line: one typed struct parsed once.
type CLI struct {
	Config kong.ConfigFlag `help:"JSON file with flag values, e.g. {\"addr\": \"0.0.0.0:8080\", \"data\": \"/var/lib/mosaic\"}." env:"MOSAIC_CONFIG" placeholder:"FILE"`
	// CPUProfile is for finding where a command's time goes (a replay, an
	// import); the server also serves profiles at /debug/pprof.
	CPUProfile string `name:"cpu-profile" hidden:"" help:"Write a CPU profile of the command to FILE (for go tool pprof)." placeholder:"FILE"`
	Trace      string `name:"trace" hidden:"" help:"Write an execution trace of the command to FILE (for go tool trace): where goroutines wait." placeholder:"FILE"`

	Serve        ServeCmd        `cmd:"" help:"Run the Mosaic server."`
	Sources      SourcesCmd      `cmd:"" help:"Manage the sources of a running server."`
	Events       EventsCmd       `cmd:"" help:"Read events from a running server."`
	Import       ImportCmd       `cmd:"" help:"Import a CSV or JSON Lines file into a source of a running server."`
	Profiles     ProfilesCmd     `cmd:"" help:"Split profiles of a running server."`
	Identity     IdentityCmd     `cmd:"" help:"Show or change the identity rules of a running server."`
	Audiences    AudiencesCmd    `cmd:"" help:"Manage audiences and computed traits of a running server."`
	Destinations DestinationsCmd `cmd:"" help:"Manage the destinations of a running server: webhooks, file exports, Kafka."`
	Predict      PredictCmd      `cmd:"" help:"Fit the prediction models of a running server and show them."`
	Migrate      MigrateCmd      `cmd:"" help:"Copy an embedded installation (event log and configuration) into PostgreSQL."`
	Replay       ReplayCmd       `cmd:"" help:"Rebuild profiles and everything derived from the event log (server stopped)."`
	Token        TokenCmd        `cmd:"" help:"Manage the admin token and role tokens."`
	Users        UsersCmd        `cmd:"" help:"Manage the users who sign in to the admin API and UI."`
	Audit        AuditCmd        `cmd:"" help:"Verify the audit log."`
	Version      VersionCmd      `cmd:"" help:"Print the version and commit."`
}

// Globals is what every command's Run receives besides its own flags.
type Globals struct {
	Stdout io.Writer
	Stderr io.Writer
}

func main() {
	// Most of Mosaic's heap is long-lived state (the identity graph, the
	// profiles, the deduplication index) that every collection marks
	// again: with Go's default GOGC=100 the collector took 13.5 % of a
	// 10M-event replay's CPU. At 200 it runs half as often; the replay
	// took 2 min 33 s instead of 3 min 1 s, for a larger peak heap
	// (docs/operations.md). GOGC in the environment still decides.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	var cli CLI
	// kong calls Exit after --help or a usage error; remember it instead of
	// ending the process, so tests can call run and nothing runs after help.
	exited, exitCode := false, 0
	parser, err := kong.New(&cli,
		kong.Name("mosaic"),
		kong.Description("Mosaic, an open-source customer data platform."),
		kong.Configuration(configLoader),
		kong.DefaultEnvars("MOSAIC"),
		kong.Writers(stdout, stderr),
		kong.UsageOnError(),
		kong.Exit(func(code int) { exited, exitCode = true, code }),
	)
	if err != nil {
		fmt.Fprintf(stderr, "mosaic: %v\n", err)
		return 2
	}
	ctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "mosaic: %v\n", err)
		return 2
	}
	if exited { // help was printed
		return exitCode
	}
	stopProfile, err := startCPUProfile(cli.CPUProfile)
	if err != nil {
		fmt.Fprintf(stderr, "mosaic: --cpu-profile: %v\n", err)
		return 2
	}
	defer stopProfile()
	if cli.Trace != "" {
		f, err := os.Create(cli.Trace)
		if err != nil {
			fmt.Fprintf(stderr, "mosaic: --trace: %v\n", err)
			return 2
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			fmt.Fprintf(stderr, "mosaic: --trace: %v\n", err)
			return 2
		}
		defer trace.Stop()
	}
	if err := ctx.Run(&Globals{Stdout: stdout, Stderr: stderr}); err != nil {
		fmt.Fprintf(stderr, "mosaic: %v\n", err)
		return 1
	}
	return 0
}
