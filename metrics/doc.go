// Package metrics is pure float64 math on probabilities, embeddings and
// samples: summary statistics, bootstrap intervals, the MUNIT paper's
// Inception Score and Conditional Inception Score, the conventional
// split Inception Score, FID, KID, human-preference intervals and the
// two-sample tests of the regression gate.
//
// The package is opinionated in what it leaves out: it never reads a file,
// never runs a model and never prints. Callers hand it numbers and state
// what they assume (which rows belong to which input, which replicates are
// paired, which confidence level they want); the package documents the
// formula and the reference each function follows, accumulates in float64,
// and returns an error, never a panic, on input it cannot use.
//
// Importing the package has no side effects. Its linear algebra (FID, KID,
// precision and recall) runs on gonum's BLAS, which is process-wide state
// that the program owns: its main installs the optional optimised backend
// (OpenBLAS loaded with dlopen, or gonum's kernels spread over the cores)
// once at startup with [UseBLAS], as gonum's blas64.Use is meant to be
// called; without that call the package computes with gonum's default
// pure-Go BLAS. [BLASBackend] says which is in use.
//
// Randomness is always explicit: every resampling function takes a uint64
// seed and draws from math/rand/v2's PCG generator, so the same seed gives
// the same numbers on every machine. The one exception is the shuffle of
// [SplitInceptionScore], which reproduces numpy.random.RandomState's
// permutation so that torch-fidelity's default (shuffle with seed 2020) can
// be matched exactly.
//
// Conventions: logarithms are natural (scores in nats), 0·ln 0 = 0,
// standard deviations are sample (N−1) unless a doc comment says
// "population", and intervals are [2]float64{lo, hi}.
package metrics
