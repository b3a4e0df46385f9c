package model

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/munit-eval/munit-eval/onnxbuild"
)

// maxModelBytes is the largest model munit-eval runs: models are handed to
// onnxruntime from memory, where a ModelProto is at most 2 GiB.
const maxModelBytes = math.MaxInt32

// resolveExternal returns the model data with every tensor whose bytes live
// in an external data file (onnx's save_as_external_data) read from that
// file, beside the model at path, and stored inline, and the files it
// read (their locations as the model names them). The result is what is
// hashed (Info.SHA256) and run, so the weights are part of the model's
// identity: changing an external file changes the hash, and caches and
// stores keyed by it. A model without external data is returned as is.
func resolveExternal(path string, data []byte) ([]byte, []string, error) {
	dir := filepath.Dir(path)
	files := map[string][]byte{}
	var names []string
	out, _, err := onnxbuild.InlineExternalData(data, func(x onnxbuild.ExternalData) ([]byte, error) {
		b, ok := files[x.Location]
		if !ok {
			var err error
			if b, err = readExternal(dir, x.Location); err != nil {
				return nil, pathError{fmt.Errorf("%s: tensor %q: %w", path, x.Tensor, err)}
			}
			files[x.Location] = b
			names = append(names, x.Location)
		}
		end := int64(len(b))
		if x.Length >= 0 {
			end = x.Offset + x.Length
		}
		switch {
		case x.Offset > int64(len(b)) || end > int64(len(b)) || end < x.Offset:
			return nil, pathError{fmt.Errorf("%s: tensor %q: external data %s is %d bytes, the model asks bytes %d to %d", path, x.Tensor, x.Location, len(b), x.Offset, end)}
		case x.Size >= 0 && end-x.Offset != x.Size:
			return nil, pathError{fmt.Errorf("%s: tensor %q: external data %s holds %d bytes at offset %d, the tensor's type and shape need %d", path, x.Tensor, x.Location, end-x.Offset, x.Offset, x.Size)}
		}
		return b[x.Offset:end], nil
	})
	if err != nil {
		var pe pathError
		if errors.As(err, &pe) {
			return nil, nil, pe.error
		}
		// The protobuf itself does not parse.
		if inner := errors.Unwrap(err); inner != nil {
			err = inner
		}
		return nil, nil, fmt.Errorf("%s: not a valid ONNX model: %v", path, err)
	}
	if len(out) > maxModelBytes {
		return nil, nil, fmt.Errorf("%s: with its external data the model is %d bytes; munit-eval runs models from memory, where ONNX models are at most 2 GiB", path, len(out))
	}
	slices.Sort(names)
	return out, names, nil
}

// pathError marks an error that already names the model file.
type pathError struct{ error }

// readExternal reads an external data file inside dir: the location must
// be a relative path that stays in the model's folder (symbolic links
// included), and a regular file.
func readExternal(dir, location string) ([]byte, error) {
	if !filepath.IsLocal(filepath.FromSlash(location)) {
		return nil, fmt.Errorf("external data location %q is not a file inside the model's folder", location)
	}
	f, err := os.OpenInRoot(dir, filepath.FromSlash(location))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("external data file %s: not found beside the model (in %s)", location, dir)
		}
		return nil, fmt.Errorf("external data file %s: %w", location, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("external data file %s: %w", location, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("external data file %s: not a regular file", location)
	}
	if st.Size() > maxModelBytes {
		return nil, fmt.Errorf("external data file %s is %d bytes; munit-eval runs models from memory, where ONNX models are at most 2 GiB", location, st.Size())
	}
	b, err := io.ReadAll(io.LimitReader(f, maxModelBytes+1))
	if err != nil {
		return nil, fmt.Errorf("external data file %s: %w", location, err)
	}
	return b, nil
}
