// Package archtest holds one test: the package table of README.md
// ("Package layout") against the imports of the code, and the rule that a
// package imports only packages of lower layers. It has no code of its own.
package archtest
