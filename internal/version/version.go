// Package version holds munit-eval's own version, which goes into every
// results document and sample manifest.
package version

// MunitEval is the version of this build. Release builds may override it
// with -ldflags "-X github.com/munit-eval/munit-eval/internal/version.MunitEval=v1.2.3".
var MunitEval = "0.1.0-dev"
