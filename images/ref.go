package images

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
)

// Ref names an image file as the derived caches (LPIPS embeddings,
// classifier outputs) know it: by the SHA-256 of its bytes, plus the resize
// applied before use, if any.
type Ref struct {
	Path string
	// SHA256 is the file's expected hash (a store's manifest records it),
	// or "" when unknown. Read refuses a file whose bytes hash otherwise;
	// Hash fills it when empty.
	SHA256 string
	// Size, when > 0, resizes the image (ResizeCrop: shorter side, centre
	// crop) before use.
	Size int
	// Clean, when > 0, then resizes the image to Clean × Clean as
	// clean-fid's "clean" mode does (ResizeClean: Pillow's float bicubic,
	// antialiased, rounded to 8 bits), for a feature network whose own
	// resize is then the identity.
	Clean int
}

// CacheKey is the key of the image's cache entries: its SHA-256, with
// "-s<Size>" appended when it is resized and "-c<Clean>" when it is
// clean-resized.
func (r Ref) CacheKey() string { return r.KeyFor(r.SHA256) }

// KeyFor is the cache key of r's image when its bytes hash to sha (the hash
// of the bytes actually read): sha with r's resizes appended.
func (r Ref) KeyFor(sha string) string {
	k := KeyOf(sha, r.Size)
	if r.Clean > 0 {
		k = fmt.Sprintf("%s-c%d", k, r.Clean)
	}
	return k
}

// KeyOf is the cache key of an image whose bytes hash to sha and which is
// resized to size (0: not resized): sha, or sha + "-s<size>".
func KeyOf(sha string, size int) string {
	if size > 0 {
		return fmt.Sprintf("%s-s%d", sha, size)
	}
	return sha
}

// Hash fills in r.SHA256 from the file when it is empty.
func (r *Ref) Hash() error {
	if r.SHA256 != "" {
		return nil
	}
	h, err := HashFile(r.Path)
	if err != nil {
		return err
	}
	r.SHA256 = h
	return nil
}

// Load decodes the file and applies the resize.
func (r Ref) Load() (*Image, error) {
	img, err := Load(r.Path)
	if err != nil {
		return nil, err
	}
	return r.resize(img), nil
}

// resize applies r's resizes to a decoded image: Size (shorter side, centre
// crop), then Clean (clean-fid's resize), keeping its decode warnings.
func (r Ref) resize(img *Image) *Image {
	ws := img.Warnings
	if r.Size > 0 {
		img = ResizeCrop(img, r.Size)
	}
	if r.Clean > 0 {
		img = ResizeClean(img, r.Clean)
	}
	if ws != nil && img.Warnings == nil {
		img.Warnings = ws
	}
	return img
}

// MismatchError is Read's refusal of a file whose bytes do not hash to the
// SHA-256 the caller expected: the file changed after its hash was recorded.
type MismatchError struct {
	Path      string
	Want, Got string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("images: %s has sha256 %s, but %s was recorded for it (changed since?)", e.Path, e.Got, e.Want)
}

// Read reads the file once and returns its bytes and their SHA-256. When
// r.SHA256 is set and the bytes hash otherwise, it returns a
// *MismatchError. Hashing the bytes that are then decoded (see Decoded)
// makes every derived value's key the content actually used, at the cost
// of one SHA-256 pass (a fraction of a millisecond for a 256x256 PNG).
func (r Ref) Read() (data []byte, sha string, err error) {
	st, err := os.Stat(r.Path)
	if err != nil {
		return nil, "", fmt.Errorf("images: %w", err)
	}
	if st.IsDir() {
		return nil, "", fmt.Errorf("images: %s: is a folder, not an image", r.Path)
	}
	b, err := os.ReadFile(r.Path)
	if err != nil {
		return nil, "", fmt.Errorf("images: %w", err)
	}
	s := sha256.Sum256(b)
	sha = hex.EncodeToString(s[:])
	if r.SHA256 != "" && sha != r.SHA256 {
		return nil, "", &MismatchError{Path: r.Path, Want: r.SHA256, Got: sha}
	}
	return b, sha, nil
}

// Decoded decodes data, the bytes Read returned for r, and applies the
// resize. Errors name r.Path.
func (r Ref) Decoded(data []byte) (*Image, error) {
	img, err := decodeBytes(data, r.Path)
	if err != nil {
		return nil, err
	}
	return r.resize(img), nil
}
