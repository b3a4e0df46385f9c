// Package translate runs generators over a set of input images and keeps the
// results in a sample store that every metric reads: reproducible, traceable
// and never computed twice.
//
// The package's opinion: a sample is identified by what produced it — the
// generator's bytes (SHA-256), the input image's bytes, the resize, and the
// latent code — and the latent code of sample k of input i is a pure function
// of (seed, i, k) (see Latent), as is its noise (see Noise). So a run can be
// stopped at any moment and resumed, batched any way, split over shards, or
// extended to more inputs or samples, and it still ends with exactly the
// files an uninterrupted run would have written.
//
// # Store layout
//
//	STORE/<method>/manifest.json
//	STORE/<method>/<input-stem>/<k>.png     k = 0-based sample index, decimal
//	STORE/<method>/manifest.shard-I-of-N.json   (a running or unfinished shard's fragment)
//	STORE/<method>/.lock, .lock.shard-I-of-N    (advisory locks of the writers)
//	STORE/<method>@<key>/...                (a run of another identity, see RunKey)
//	STORE/.cache/<kind>/...                 (derived caches of other packages)
//
// <method> is MethodDir(method name): the name with '*' spelled "_star", '+'
// spelled "_plus" and any other character outside [A-Za-z0-9._-] replaced
// by '_' (so "CycleGAN*" is stored under "CycleGAN_star"); the manifest keeps
// the real name. The manifest (schema "munit-eval/samples/v1", see Manifest)
// records the method, the models' SHA-256, the seed and input selection, the
// resize, every input's SHA-256 and size, the latent code and SHA-256 of every
// finished sample, and the onnxruntime and munit-eval versions.
//
// Every file is written atomically (temporary file, rename), and the
// manifest lists a sample only after its file is in place and flushed to
// disk (one filesystem sync per manifest write rather than one fsync per
// sample), so a run killed at any moment, or a power cut, leaves a store
// whose manifest is true. A rerun reuses a sample only when its file's
// SHA-256 matches the manifest and what produced it is unchanged, computes
// what is missing, and refuses to mix samples of a different model, latent
// source, seed, resize or input set: such a run goes to a folder of its own
// beside the first (STORE/<method>@<key>). A store only grows: asking fewer
// inputs or samples than it holds keeps them all, so commands needing
// different K share one store. One process writes a folder at a time
// (flock), or one per shard (Config.Shard), each into its own manifest
// fragment; OpenStore assembles them.
package translate
