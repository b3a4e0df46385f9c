package images

import "fmt"

// Ref names an image file as the derived caches (LPIPS embeddings,
// classifier outputs) know it: by the SHA-256 of its bytes, plus the resize
// applied before use, if any.
type Ref struct {
	Path string
	// SHA256 is the file's hash; Hash fills it when empty.
	SHA256 string
	// Size, when > 0, resizes the image (ResizeCrop: shorter side, centre
	// crop) before use.
	Size int
}

// CacheKey is the key of the image's cache entries: its SHA-256, with
// "-s<Size>" appended when it is resized.
func (r Ref) CacheKey() string {
	if r.Size > 0 {
		return fmt.Sprintf("%s-s%d", r.SHA256, r.Size)
	}
	return r.SHA256
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
	if r.Size > 0 {
		img = ResizeCrop(img, r.Size)
	}
	return img, nil
}
