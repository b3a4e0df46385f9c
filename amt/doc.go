// Package amt runs the human preference study of the MUNIT paper (section 5,
// the "Quality" column; docs/metrics.md): two-alternative forced-choice batches
// for Amazon Mechanical Turk, the same study as a local web page, and the
// analysis of the answers.
//
// The package's opinion: the worker must learn nothing but pixels. Image
// names are HMAC-SHA256 digests under a secret kept in the researcher's key,
// output images never recur across questions, sides are random, and the HIT
// layout names no method. Everything that says which method is where lives in
// key.json, which is never served.
//
// A batch folder holds:
//
//	images/            the images, opaquely named
//	batch.csv          MTurk batch input: one row per HIT
//	hit.html           the HIT layout (crowd-html-elements), ${variables} from batch.csv
//	key.json           the answer key (schema munit-eval/amt-key/v1), for the researcher only
//	local-results.csv  answers of the local study (amt serve), in MTurk's results layout
//
// Results are matched to HITs by their Input.* values (MTurk assigns HIT ids),
// so MTurk's downloaded results and the local study's file are read alike.
package amt
