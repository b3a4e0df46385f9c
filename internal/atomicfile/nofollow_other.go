//go:build !unix

package atomicfile

// noFollow is 0 where open has no O_NOFOLLOW: OpenNoFollow looks first.
const noFollow = 0
