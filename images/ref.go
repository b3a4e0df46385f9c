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
	// Clean, when > 0, then resizes the image to Clean × Clean as
	// clean-fid's "clean" mode does (ResizeClean: Pillow's float bicubic,
	// antialiased, rounded to 8 bits), for a feature network whose own
	// resize is then the identity.
	Clean int
}

// CacheKey is the key of the image's cache entries: its SHA-256, with
// "-s<Size>" appended when it is resized and "-c<Clean>" when it is
// clean-resized.
func (r Ref) CacheKey() string {
	k := r.SHA256
	if r.Size > 0 {
		k = fmt.Sprintf("%s-s%d", k, r.Size)
	}
	if r.Clean > 0 {
		k = fmt.Sprintf("%s-c%d", k, r.Clean)
	}
	return k
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
	if r.Clean > 0 {
		img = ResizeClean(img, r.Clean)
	}
	return img, nil
}
