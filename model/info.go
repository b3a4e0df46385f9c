package model

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

// Tensor is a float32 tensor in row-major order.
type Tensor struct {
	Shape []int64
	Data  []float32
}

// TensorInfo describes one model input or output. Dynamic axes are -1.
type TensorInfo struct {
	Name  string  `json:"name"`
	Shape []int64 `json:"shape"`
	Type  string  `json:"type"`
}

// Info is what munit-eval knows of a model file before running it.
type Info struct {
	Path     string            `json:"path"`
	SHA256   string            `json:"sha256"`
	Inputs   []TensorInfo      `json:"inputs"`
	Outputs  []TensorInfo      `json:"outputs"`
	Metadata map[string]string `json:"metadata"`

	// Role comes from the metadata, or from Options.Role when the model has
	// none. Method, LatentDim and Classes come from the metadata; LatentDim
	// falls back to the latent input's shape.
	Role      Role     `json:"role"`
	Method    string   `json:"method,omitempty"`
	LatentDim int      `json:"latent_dim"`
	Classes   []string `json:"classes,omitempty"`

	// ImageInput and LatentInput name the inputs that carry the image and
	// the latent code ("" when there is none): by name first ("image";
	// "style", "z", "latent"), falling back to shape (the 4-D 3-channel input
	// is the image; a 2-D or [N,S,1,1] input is the latent).
	ImageInput  string `json:"image_input,omitempty"`
	LatentInput string `json:"latent_input,omitempty"`
	// LatentRank4 is true when the latent input is [N,S,1,1].
	LatentRank4 bool `json:"latent_rank4,omitempty"`
	// FixedBatch is the batch size the model fixes (0: dynamic batch axis).
	FixedBatch int `json:"fixed_batch,omitempty"`
	// Noise are the noise inputs declared in munit_eval.noise (nil when
	// there are none or the declaration is malformed: Check says why).
	// They never count as the image or latent input.
	Noise []NoiseInput `json:"noise,omitempty"`
	// ExternalData are the external data files (relative to the model's
	// folder) whose bytes the model's tensors hold; SHA256 covers them.
	ExternalData []string `json:"external_data,omitempty"`
}

// Synthetic reports whether the model was built by munit-eval's synthetic
// world (its numbers are comparable within the demo only).
func (i *Info) Synthetic() bool { return i.Metadata[MetaSynthetic] == "true" }

// Input returns the input named name.
func (i *Info) Input(name string) (TensorInfo, bool) {
	for _, t := range i.Inputs {
		if t.Name == name {
			return t, true
		}
	}
	return TensorInfo{}, false
}

// Output returns the output named name.
func (i *Info) Output(name string) (TensorInfo, bool) {
	for _, t := range i.Outputs {
		if t.Name == name {
			return t, true
		}
	}
	return TensorInfo{}, false
}

// HashFile returns the lowercase hex SHA-256 of a file's bytes.
func HashFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Inspect reads a model's inputs, outputs and metadata without keeping a
// session. The error names the file and what is wrong with it.
func Inspect(path string) (*Info, error) {
	if err := Init(""); err != nil {
		return nil, err
	}
	data, err := readModelFile(path)
	if err != nil {
		return nil, err
	}
	data, ext, err := resolveExternal(path, data)
	if err != nil {
		return nil, err
	}
	info, err := inspectData(path, data, "")
	if err != nil {
		return nil, err
	}
	info.ExternalData = ext
	return info, nil
}

// readModelFile reads a model file, rejecting what cannot be a model before
// onnxruntime sees it.
func readModelFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("%s: no such file", path)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s: is a directory, not an ONNX model", path)
	}
	// Only a regular file: a FIFO would block the read and /dev/zero
	// never end it.
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %s, not an ONNX model", path, fileKind(st.Mode()))
	}
	if st.Size() > maxModelBytes {
		return nil, fmt.Errorf("%s: %d bytes; munit-eval runs models from memory, where ONNX models are at most 2 GiB", path, st.Size())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%s: empty file, not an ONNX model", path)
	}
	return data, nil
}

// fileKind names what a path that is not a regular file is.
func fileKind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeCharDevice != 0, m&os.ModeDevice != 0:
		return "a device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file"
}

func inspectData(path string, data []byte, role Role) (*Info, error) {
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		return nil, fmt.Errorf("%s: not a valid ONNX model: %s", path, firstLine(err.Error()))
	}
	md, err := ort.GetModelMetadataWithONNXData(data)
	if err != nil {
		return nil, fmt.Errorf("%s: reading metadata: %s", path, firstLine(err.Error()))
	}
	defer md.Destroy()
	meta := map[string]string{}
	keys, err := md.GetCustomMetadataMapKeys()
	if err != nil {
		return nil, fmt.Errorf("%s: reading metadata: %w", path, err)
	}
	for _, k := range keys {
		v, ok, err := md.LookupCustomMetadataMap(k)
		if err != nil {
			return nil, fmt.Errorf("%s: reading metadata %s: %w", path, k, err)
		}
		if ok {
			meta[k] = v
		}
	}
	sum := sha256.Sum256(data)
	info := &Info{
		Path:     path,
		SHA256:   hex.EncodeToString(sum[:]),
		Inputs:   convertInfos(ins),
		Outputs:  convertInfos(outs),
		Metadata: meta,
	}
	info.resolve(role)
	return info, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

func convertInfos(in []ort.InputOutputInfo) []TensorInfo {
	out := make([]TensorInfo, len(in))
	for i, t := range in {
		shape := make([]int64, len(t.Dimensions))
		for j, d := range t.Dimensions {
			if d <= 0 {
				d = -1
			}
			shape[j] = d
		}
		typ := "non-tensor"
		if t.OrtValueType == ort.ONNXTypeTensor {
			typ = elemTypeName(t.DataType)
		}
		out[i] = TensorInfo{Name: t.Name, Shape: shape, Type: typ}
	}
	return out
}

func elemTypeName(t ort.TensorElementDataType) string {
	switch t {
	case ort.TensorElementDataTypeFloat:
		return "float32"
	case ort.TensorElementDataTypeDouble:
		return "float64"
	case ort.TensorElementDataTypeFloat16:
		return "float16"
	case ort.TensorElementDataTypeInt64:
		return "int64"
	case ort.TensorElementDataTypeInt32:
		return "int32"
	case ort.TensorElementDataTypeUint8:
		return "uint8"
	case ort.TensorElementDataTypeBool:
		return "bool"
	case ort.TensorElementDataTypeString:
		return "string"
	}
	return strings.ToLower(strings.TrimPrefix(t.String(), "ONNX_TENSOR_ELEMENT_DATA_TYPE_"))
}

// resolve fills the derived fields from metadata and shapes. role, when not
// empty, is the role the user named; metadata wins for everything else.
func (i *Info) resolve(role Role) {
	i.Role = Role(i.Metadata[MetaRole])
	if i.Role == "" {
		i.Role = role
	}
	i.Method = i.Metadata[MetaMethod]
	i.Classes = SplitNames(i.Metadata[MetaClasses])
	i.Noise, _ = ParseNoise(i.Metadata[MetaNoise])
	// Noise inputs are declared by name; leave them out of the search by
	// shape so a 3-channel or 1x1 noise input is never taken for the image
	// or the latent.
	ins := i.Inputs
	if noise := noiseNames(i.Noise); noise != nil {
		ins = nil
		for _, t := range i.Inputs {
			if !noise[t.Name] {
				ins = append(ins, t)
			}
		}
	}
	i.ImageInput = findImageInput(ins)
	i.LatentInput, i.LatentRank4 = findLatentInput(ins, i.ImageInput)
	if v, err := strconv.Atoi(i.Metadata[MetaLatentDim]); err == nil && v > 0 {
		i.LatentDim = v
	} else if i.LatentInput != "" {
		t, _ := i.Input(i.LatentInput)
		if len(t.Shape) >= 2 && t.Shape[1] > 0 {
			i.LatentDim = int(t.Shape[1])
		}
	}
	if i.ImageInput != "" {
		t, _ := i.Input(i.ImageInput)
		if len(t.Shape) > 0 && t.Shape[0] > 0 {
			i.FixedBatch = int(t.Shape[0])
		}
	} else if len(i.Inputs) > 0 && len(i.Inputs[0].Shape) > 0 && i.Inputs[0].Shape[0] > 0 {
		i.FixedBatch = int(i.Inputs[0].Shape[0])
	}
}

func findImageInput(ins []TensorInfo) string {
	for _, t := range ins {
		if t.Name == "image" {
			return t.Name
		}
	}
	var found []string
	for _, t := range ins {
		if len(t.Shape) == 4 && t.Shape[1] == 3 {
			found = append(found, t.Name)
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	return ""
}

var latentNames = []string{"style", "z", "latent"}

func findLatentInput(ins []TensorInfo, image string) (string, bool) {
	isLatentShape := func(t TensorInfo) (bool, bool) {
		switch {
		case len(t.Shape) == 2:
			return true, false
		case len(t.Shape) == 4 && t.Shape[2] == 1 && t.Shape[3] == 1:
			return true, true
		}
		return false, false
	}
	for _, name := range latentNames {
		for _, t := range ins {
			if t.Name == name && t.Name != image {
				_, r4 := isLatentShape(t)
				return t.Name, r4
			}
		}
	}
	var found []TensorInfo
	for _, t := range ins {
		if t.Name == image || t.Name == "content" || t.Name == DomainInput {
			continue
		}
		if ok, _ := isLatentShape(t); ok {
			found = append(found, t)
		}
	}
	if len(found) == 1 {
		_, r4 := isLatentShape(found[0])
		return found[0].Name, r4
	}
	return "", false
}

// ShapeString formats a shape as [N,3,-1,-1] with -1 for dynamic axes.
func ShapeString(s []int64) string { return shapeString(s) }

func shapeString(s []int64) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.FormatInt(d, 10)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// SortedMetadataKeys returns the metadata keys in order, for stable output.
func (i *Info) SortedMetadataKeys() []string {
	keys := make([]string, 0, len(i.Metadata))
	for k := range i.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
