// Package lpips computes LPIPS distances (Zhang et al., CVPR 2018) from an
// LPIPS embedding model (docs/models.md) and the diversity protocol of the MUNIT
// paper: mean LPIPS over pairs of outputs that share an input.
//
// The embedding model does the network part: it outputs, for each tapped
// layer l, e_l = sqrt(w_l) * f_l / (sqrt(sum_c f_l^2) + 1e-10). What is left
// is small and literal, in Distance. Every image is embedded once per run
// (the batch engine: read once, hashed as read, verified against the
// store's manifest). On disk, the sample store keeps each pair's distance
// by default, keyed by the LPIPS model's and the two images' SHA-256, so a
// rerun of the same protocol embeds nothing; Embedder.CacheEmbeddings also
// keeps the full embeddings, so a rerun with another pairing reuses them.
package lpips

import (
	"fmt"
	"math"
	"strconv"

	"github.com/munit-eval/munit-eval/images"
	"github.com/munit-eval/munit-eval/model"
)

// Model is an open LPIPS embedding model.
type Model struct {
	sess *model.Session
	// Net is the backbone (alex, vgg, squeeze), Version the LPIPS version
	// (0.0 or 0.1), Layers the number of tapped layers.
	Net, Version string
	Layers       int
}

// Open opens an LPIPS embedding model and checks its contract.
func Open(path string, opts model.Options) (*Model, error) {
	opts.Role = model.RoleLPIPS
	s, err := model.Open(path, opts)
	if err != nil {
		return nil, fmt.Errorf("lpips: %w", err)
	}
	info := s.Info()
	if p := model.Check(info, model.RoleLPIPS); len(p) > 0 {
		s.Close()
		return nil, fmt.Errorf("lpips: %s does not fit the LPIPS contract: %s", path, p[0])
	}
	m := &Model{sess: s, Net: info.Metadata[model.MetaLPIPSNet], Version: info.Metadata[model.MetaLPIPSVersion], Layers: len(info.Outputs)}
	if m.Net == "" {
		m.Net = "unknown"
	}
	return m, nil
}

// Info describes the model file.
func (m *Model) Info() *model.Info { return m.sess.Info() }

// SHA256 is the model file's hash, the key of its embedding cache.
func (m *Model) SHA256() string { return m.sess.Info().SHA256 }

// Synthetic reports whether the model was built by munit-eval's synthetic world.
func (m *Model) Synthetic() bool { return m.sess.Info().Synthetic() }

// Close releases the session.
func (m *Model) Close() error { return m.sess.Close() }

// Embedding holds one image's normalised, weighted activations e_l, one
// [C,H,W] tensor per tapped layer. Embeddings from one Model.Embed batch
// share their layers' backing arrays: treat them as read-only.
type Embedding struct {
	Shapes [][3]int
	Layers [][]float32
}

// MinSize is the smallest image side LPIPS embeds: AlexNet's stride-4
// convolution and two stride-2 pools (and VGG's and SqueezeNet's pools)
// leave nothing of a smaller image.
const MinSize = 32

// Embed runs the model on images of one size, in one batch. It fails when
// an output holds a NaN or an infinity, naming the image and layer.
func (m *Model) Embed(imgs []*images.Image) ([]*Embedding, error) {
	if len(imgs) == 0 {
		return nil, nil
	}
	h, w := imgs[0].H, imgs[0].W
	if h < MinSize || w < MinSize {
		// The trunks' strided convolutions and pools shrink a small image to
		// nothing, and onnxruntime can crash the process on it, not err.
		return nil, fmt.Errorf("lpips: a %dx%d image is too small: LPIPS networks need at least %dx%d (resize with --size)", w, h, MinSize, MinSize)
	}
	data := make([]float32, len(imgs)*3*h*w)
	if err := images.ToTensor(imgs, data); err != nil {
		return nil, fmt.Errorf("lpips: %w", err)
	}
	out, err := m.sess.Run(map[string]model.Tensor{m.sess.Info().ImageInput: {
		Shape: []int64{int64(len(imgs)), 3, int64(h), int64(w)}, Data: data}})
	if err != nil {
		return nil, fmt.Errorf("lpips: %w", err)
	}
	embs := make([]*Embedding, len(imgs))
	for i := range embs {
		embs[i] = &Embedding{Shapes: make([][3]int, m.Layers), Layers: make([][]float32, m.Layers)}
	}
	for l := 0; l < m.Layers; l++ {
		t := out["lpips_"+strconv.Itoa(l)]
		if len(t.Shape) != 4 || t.Shape[0] != int64(len(imgs)) {
			return nil, fmt.Errorf("lpips: output lpips_%d has shape %s for a batch of %d", l, model.ShapeString(t.Shape), len(imgs))
		}
		c, hh, ww := int(t.Shape[1]), int(t.Shape[2]), int(t.Shape[3])
		n := c * hh * ww
		if i := firstNonFinite(t.Data); i >= 0 {
			return nil, fmt.Errorf("lpips: image %d of the batch: embedding layer %d holds a non-finite value (%v)", i/n, l, t.Data[i])
		}
		for i := range embs {
			embs[i].Shapes[l] = [3]int{c, hh, ww}
			// The session's output is a fresh slice: each image's layer is
			// a capped view of it, not a copy (copying, with the old
			// finiteness check, took ~15% of Embed's time at 256x256).
			// The batch's memory lives as long as any of its images'
			// embeddings.
			embs[i].Layers[l] = t.Data[i*n : (i+1)*n : (i+1)*n]
		}
	}
	return embs, nil
}

// firstNonFinite returns the index of the first NaN or infinity in x, or -1.
// It tests the exponent bits (all ones for NaN and the infinities), eight
// values per step without a branch, and looks for the culprit only when a
// block holds one.
func firstNonFinite(x []float32) int {
	const exp = 0x7f800000
	i := 0
	for ; i+8 <= len(x); i += 8 {
		v := x[i : i+8 : i+8]
		// (bits & exp) + 0x00800000 carries into bit 31 exactly when the
		// exponent is all ones.
		m := ((math.Float32bits(v[0]) & exp) + 0x00800000) |
			((math.Float32bits(v[1]) & exp) + 0x00800000) |
			((math.Float32bits(v[2]) & exp) + 0x00800000) |
			((math.Float32bits(v[3]) & exp) + 0x00800000) |
			((math.Float32bits(v[4]) & exp) + 0x00800000) |
			((math.Float32bits(v[5]) & exp) + 0x00800000) |
			((math.Float32bits(v[6]) & exp) + 0x00800000) |
			((math.Float32bits(v[7]) & exp) + 0x00800000)
		if m&0x80000000 != 0 {
			break
		}
	}
	for ; i < len(x); i++ {
		if math.Float32bits(x[i])&exp == exp {
			return i
		}
	}
	return -1
}

// Distance is the LPIPS distance between two embeddings of same-sized images:
//
//	LPIPS(x, y) = sum_l mean_{h,w} sum_c (e_l(x)[c,h,w] - e_l(y)[c,h,w])^2
//
// which, with e_l = sqrt(w_l) f_l / (||f_l||_c + 1e-10), is lpips.LPIPS's
// spatial average of the linear layer applied to the squared difference of
// the unit-normalised activations. Accumulation is in float64. It also
// returns each layer's term.
func Distance(a, b *Embedding) (float64, []float64, error) {
	if len(a.Layers) != len(b.Layers) {
		return 0, nil, fmt.Errorf("lpips: embeddings have %d and %d layers", len(a.Layers), len(b.Layers))
	}
	per := make([]float64, len(a.Layers))
	total := 0.0
	for l := range a.Layers {
		if a.Shapes[l] != b.Shapes[l] {
			return 0, nil, fmt.Errorf("lpips: layer %d has shapes %v and %v: the images differ in size", l, a.Shapes[l], b.Shapes[l])
		}
		x, y := a.Layers[l], b.Layers[l]
		if len(x) != len(y) {
			return 0, nil, fmt.Errorf("lpips: layer %d holds %d and %d values", l, len(x), len(y))
		}
		sum := sumSquaredDiff(x, y)
		hw := a.Shapes[l][1] * a.Shapes[l][2]
		per[l] = sum / float64(hw)
		total += per[l]
	}
	return total, per, nil
}

// sumSquaredDiff is sum_i (x_i - y_i)^2 with every difference and product
// in float64, over four accumulators (so the additions pipeline) that are
// added at the end; len(y) must be len(x).
func sumSquaredDiff(x, y []float32) float64 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		a, b := x[i:i+4:i+4], y[i:i+4:i+4]
		d0 := float64(a[0]) - float64(b[0])
		d1 := float64(a[1]) - float64(b[1])
		d2 := float64(a[2]) - float64(b[2])
		d3 := float64(a[3]) - float64(b[3])
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(x); i++ {
		d := float64(x[i]) - float64(y[i])
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}
