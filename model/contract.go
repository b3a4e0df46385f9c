package model

// The contracts of docs/models.md: roles, the metadata keys, and Check, which
// says how a model breaks its role's contract. Inspection (info.go) only
// reads what the file declares.

import (
	"fmt"
	"strconv"
	"strings"
)

// Role is what a model is for, from its munit_eval.role metadata or named by
// the user on the command line (docs/models.md).
type Role string

// The roles of docs/models.md.
const (
	RoleGenerator      Role = "generator"
	RoleContentEncoder Role = "content_encoder"
	RoleDecoder        Role = "decoder"
	RoleLPIPS          Role = "lpips"
	RoleClassifier     Role = "classifier"
	// RoleFeatures is a feature extractor without class logits (DINOv2,
	// CLIP): the feature space of a Fréchet distance or of CMMD.
	RoleFeatures Role = "features"
	// RoleStyleEncoder maps a reference image (and, for a multi-domain
	// model, a one-hot target domain) to the style code a generator or
	// decoder takes: reference-guided translation.
	RoleStyleEncoder Role = "style_encoder"
	// RoleMapping maps a latent code (and a one-hot target domain) to the
	// style code the generator takes (StarGAN v2's mapping network).
	RoleMapping Role = "mapping"
)

// Roles lists every known role, for help texts and validation.
var Roles = []Role{RoleGenerator, RoleContentEncoder, RoleDecoder, RoleLPIPS, RoleClassifier, RoleFeatures, RoleStyleEncoder, RoleMapping}

// Metadata keys munit-eval reads from an ONNX model's metadata_props.
const (
	MetaRole         = "munit_eval.role"
	MetaMethod       = "munit_eval.method"
	MetaLatentDim    = "munit_eval.latent_dim"
	MetaClasses      = "munit_eval.classes"
	MetaLPIPSNet     = "munit_eval.lpips_net"
	MetaLPIPSVersion = "munit_eval.lpips_version"
	MetaSynthetic    = "munit_eval.synthetic"
	// MetaPreprocess names the preprocessing a classifier or features
	// model applies inside its graph (pytorch-fid, torch-fidelity,
	// dgm-eval, cmmd): the same network gives different features under
	// each, so results record it.
	MetaPreprocess = "munit_eval.preprocess"
	// MetaFeatureExtractor names the network (fid_inception,
	// dinov2_vitl14, clip_vit-l-14-336, ...); MetaFeatureDim is the
	// width D of the "features" output.
	MetaFeatureExtractor = "munit_eval.feature_extractor"
	MetaFeatureDim       = "munit_eval.feature_dim"
	// MetaInputSize is the side of the square the graph resizes (or
	// crops and resizes) every image to.
	MetaInputSize = "munit_eval.input_size"
	// MetaNormalized is "l2" when every row of "features" has unit
	// Euclidean norm (CLIP's embeddings, as CMMD uses them).
	MetaNormalized = "munit_eval.normalized"
	// MetaDomains names the domains of a multi-domain model (StarGAN v2),
	// comma separated, in the order of its one-hot "domain" input.
	MetaDomains = "munit_eval.domains"
)

// DomainInput is the input of a multi-domain model that selects the
// target domain: float32 one-hot [N,D] (D = the names in MetaDomains).
const DomainInput = "domain"

// ParseRole checks that s names a known role.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("unknown role %q (want one of %s)", s, roleNames())
}

func roleNames() string {
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return strings.Join(names, ", ")
}

// Check says precisely how a model does not fit the contract of role
// (docs/models.md); it returns nil when it fits. When role is empty the model's
// own role is checked.
func Check(info *Info, role Role) []string {
	var p []string
	add := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	meta := Role(info.Metadata[MetaRole])
	if role == "" {
		role = info.Role
	}
	switch {
	case role == "":
		add("no %s metadata: name the model's role on the command line (one of %s)", MetaRole, roleNames())
		return p
	case meta != "" && meta != role:
		add("metadata says role %q, but it is used as %q", meta, role)
	}
	if _, err := ParseRole(string(role)); err != nil {
		add("%v", err)
		return p
	}
	for _, t := range info.Inputs {
		if t.Type != "float32" {
			add("input %q has element type %s, want float32", t.Name, t.Type)
		}
	}
	for _, t := range info.Outputs {
		if t.Type != "float32" {
			add("output %q has element type %s, want float32", t.Name, t.Type)
		}
	}
	checkImage := func() {
		if info.ImageInput == "" {
			add("no image input: want an input named \"image\" or a single 4-D [N,3,H,W] input (inputs: %s)", describe(info.Inputs))
			return
		}
		t, _ := info.Input(info.ImageInput)
		if len(t.Shape) != 4 {
			add("image input %q has shape %s, want [N,3,H,W]", t.Name, shapeString(t.Shape))
		} else if t.Shape[1] != 3 {
			add("image input %q has %s channels (shape %s), want 3 (one-channel networks are exported with the grey conversion inside the graph)", t.Name, dimString(t.Shape[1]), shapeString(t.Shape))
		}
	}
	checkTranslated := func() {
		out, ok := info.Output("translated")
		if !ok {
			if len(info.Outputs) != 1 {
				add("no output named \"translated\" (outputs: %s)", describe(info.Outputs))
				return
			}
			out = info.Outputs[0]
		}
		if len(out.Shape) != 4 || (out.Shape[1] != 3 && out.Shape[1] != -1) {
			add("output %q has shape %s, want [N,3,H,W]", out.Name, shapeString(out.Shape))
		}
	}
	checkLatent := func(required bool) {
		if info.LatentInput == "" {
			if required {
				add("no style input: want an input named \"style\" of shape [N,S] or [N,S,1,1] (inputs: %s)", describe(info.Inputs))
			}
			return
		}
		t, _ := info.Input(info.LatentInput)
		if len(t.Shape) != 2 && !(len(t.Shape) == 4 && t.Shape[2] == 1 && t.Shape[3] == 1) {
			add("latent input %q has shape %s, want [N,S] or [N,S,1,1]", t.Name, shapeString(t.Shape))
		}
		if v, err := strconv.Atoi(info.Metadata[MetaLatentDim]); err == nil && len(t.Shape) >= 2 && t.Shape[1] > 0 && int64(v) != t.Shape[1] {
			add("metadata %s=%d but latent input %q has %d channels", MetaLatentDim, v, t.Name, t.Shape[1])
		}
	}
	unexpected := func(allowed ...string) {
		for _, t := range info.Inputs {
			ok := false
			for _, a := range allowed {
				if a != "" && t.Name == a {
					ok = true
				}
			}
			if !ok {
				add("unexpected input %q %s (the contract has only %s)", t.Name, shapeString(t.Shape), strings.Join(nonEmpty(allowed), " and "))
			}
		}
	}
	if v, ok := info.Metadata[MetaLatentDim]; ok {
		if n, err := strconv.Atoi(v); err != nil || n < 0 {
			add("metadata %s=%q is not a non-negative integer", MetaLatentDim, v)
		}
	}
	// latentAgrees flags latent_dim metadata that contradicts the inputs:
	// a size but no latent input, or 0 with one.
	latentAgrees := func() {
		v, err := strconv.Atoi(info.Metadata[MetaLatentDim])
		switch {
		case err != nil:
		case v > 0 && info.LatentInput == "":
			add("metadata %s=%d, but the model has no style input (inputs: %s); a deterministic generator has %s=0", MetaLatentDim, v, describe(info.Inputs), MetaLatentDim)
		case v == 0 && info.LatentInput != "":
			add("metadata %s=0, but input %q is a style input; give its size", MetaLatentDim, info.LatentInput)
		}
	}
	noise := func() []string {
		var names []string
		for _, n := range info.Noise {
			names = append(names, n.Input)
		}
		return names
	}
	_, hasNoise := info.Metadata[MetaNoise]
	switch role {
	case RoleGenerator:
		checkImage()
		checkLatent(false)
		latentAgrees()
		checkTranslated()
		checkNoise(info, add)
		unexpected(append([]string{info.ImageInput, info.LatentInput}, noise()...)...)
	case RoleContentEncoder:
		checkImage()
		if hasNoise {
			// The content of an input is computed once for all its samples,
			// so noise there would be shared by every sample of the input.
			add("metadata %s on a content encoder: noise inputs belong on the decoder (the content encoder runs once per input for all its samples)", MetaNoise)
		}
		unexpected(info.ImageInput)
		if len(info.Outputs) != 1 {
			if _, ok := info.Output("content"); !ok {
				add("want one output named \"content\" (outputs: %s)", describe(info.Outputs))
			}
		}
	case RoleDecoder:
		if _, ok := info.Input("content"); !ok {
			add("no input named \"content\" (inputs: %s)", describe(info.Inputs))
		}
		checkLatent(true)
		latentAgrees()
		checkTranslated()
		checkNoise(info, add)
		unexpected(append([]string{"content", info.LatentInput}, noise()...)...)
	case RoleLPIPS:
		checkImage()
		if hasNoise {
			add("metadata %s: noise inputs apply to generators and decoders only", MetaNoise)
		}
		unexpected(info.ImageInput)
		n := 0
		for ; ; n++ {
			t, ok := info.Output(fmt.Sprintf("lpips_%d", n))
			if !ok {
				break
			}
			if len(t.Shape) != 4 {
				add("output %q has shape %s, want [N,C,H,W]", t.Name, shapeString(t.Shape))
			}
		}
		if n == 0 {
			add("no outputs lpips_0 ... lpips_{L-1} (outputs: %s)", describe(info.Outputs))
		} else if n != len(info.Outputs) {
			add("outputs must be exactly lpips_0 ... lpips_%d (outputs: %s)", n-1, describe(info.Outputs))
		}
		if _, ok := info.Metadata[MetaLPIPSVersion]; !ok {
			add("no %s metadata (0.0 and 0.1 give different distances)", MetaLPIPSVersion)
		} else if v := info.Metadata[MetaLPIPSVersion]; v != "0.0" && v != "0.1" {
			add("metadata %s=%q, want 0.0 or 0.1", MetaLPIPSVersion, v)
		}
	case RoleClassifier:
		checkImage()
		if hasNoise {
			add("metadata %s: noise inputs apply to generators and decoders only", MetaNoise)
		}
		unexpected(info.ImageInput)
		logits, ok := info.Output("logits")
		if !ok {
			add("no output named \"logits\" (outputs: %s)", describe(info.Outputs))
		} else if len(logits.Shape) != 2 {
			add("output \"logits\" has shape %s, want [N,K]", shapeString(logits.Shape))
		} else if len(info.Classes) > 0 && logits.Shape[1] > 0 && int(logits.Shape[1]) != len(info.Classes) {
			add("metadata %s names %d classes but \"logits\" has %d", MetaClasses, len(info.Classes), logits.Shape[1])
		}
		if f, ok := info.Output("features"); ok {
			checkFeatures(info, f, add)
		}
		checkSpatial(info, add)
		for _, t := range info.Outputs {
			if t.Name != "logits" && t.Name != "features" && t.Name != "spatial" {
				add("unexpected output %q (the contract has logits and optional features and spatial)", t.Name)
			}
		}
	case RoleStyleEncoder, RoleMapping:
		if role == RoleStyleEncoder {
			checkImage()
		} else {
			checkLatent(true)
		}
		if hasNoise {
			add("metadata %s: noise inputs apply to generators and decoders only", MetaNoise)
		}
		checkDomain(info, add)
		first := info.ImageInput
		if role == RoleMapping {
			first = info.LatentInput
		}
		unexpected(first, DomainInput)
		style, ok := info.Output("style")
		if !ok && len(info.Outputs) == 1 {
			style, ok = info.Outputs[0], true
		}
		switch {
		case !ok:
			add("no output named \"style\" (outputs: %s)", describe(info.Outputs))
		case len(style.Shape) != 2:
			add("output %q has shape %s, want [N,S]", style.Name, shapeString(style.Shape))
		default:
			if v, err := strconv.Atoi(info.Metadata[MetaLatentDim]); role == RoleStyleEncoder && err == nil && style.Shape[1] > 0 && int64(v) != style.Shape[1] {
				add("metadata %s=%d but output %q has %d values per style code", MetaLatentDim, v, style.Name, style.Shape[1])
			}
		}
	case RoleFeatures:
		checkImage()
		if hasNoise {
			add("metadata %s: noise inputs apply to generators and decoders only", MetaNoise)
		}
		unexpected(info.ImageInput)
		f, ok := info.Output("features")
		if !ok {
			add("no output named \"features\" (outputs: %s)", describe(info.Outputs))
		} else {
			checkFeatures(info, f, add)
		}
		checkSpatial(info, add)
		for _, t := range info.Outputs {
			if t.Name != "features" && t.Name != "spatial" {
				add("unexpected output %q (the contract has features and optional spatial)", t.Name)
			}
		}
	}
	return p
}

// checkDomain checks the optional one-hot "domain" input [N,D] against
// the domain names of munit_eval.domains.
func checkDomain(info *Info, add func(string, ...any)) {
	t, ok := info.Input(DomainInput)
	if !ok {
		if _, named := info.Metadata[MetaDomains]; named {
			add("metadata %s names domains but there is no %q input", MetaDomains, DomainInput)
		}
		return
	}
	if len(t.Shape) != 2 {
		add("input %q has shape %s, want one-hot [N,D]", t.Name, shapeString(t.Shape))
		return
	}
	names := Domains(info)
	switch {
	case len(names) == 0:
		add("input %q but no %s metadata naming the domains", t.Name, MetaDomains)
	case t.Shape[1] > 0 && int64(len(names)) != t.Shape[1]:
		add("metadata %s names %d domains but input %q has %d", MetaDomains, len(names), t.Name, t.Shape[1])
	}
}

// Domains returns the domain names of a multi-domain model's
// munit_eval.domains metadata (nil when it has none).
func Domains(info *Info) []string {
	return SplitNames(strings.TrimSpace(info.Metadata[MetaDomains]))
}

// SplitNames splits a comma-separated list of names (class names, domain
// names), each trimmed of spaces; nil when the list is empty.
func SplitNames(list string) []string {
	if list == "" {
		return nil
	}
	names := strings.Split(list, ",")
	for i := range names {
		names[i] = strings.TrimSpace(names[i])
	}
	return names
}

// checkFeatures checks a "features" output: [N,D], D agreeing with
// munit_eval.feature_dim when both are known.
func checkFeatures(info *Info, f TensorInfo, add func(string, ...any)) {
	if len(f.Shape) != 2 {
		add("output \"features\" has shape %s, want [N,D]", shapeString(f.Shape))
		return
	}
	if v, ok := info.Metadata[MetaFeatureDim]; ok {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n < 1:
			add("metadata %s=%q is not a positive integer", MetaFeatureDim, v)
		case f.Shape[1] > 0 && int64(n) != f.Shape[1]:
			add("metadata %s=%d but \"features\" has %d", MetaFeatureDim, n, f.Shape[1])
		}
	}
}

// checkSpatial checks the optional "spatial" output, the flattened
// spatial features of sFID: [N,S].
func checkSpatial(info *Info, add func(string, ...any)) {
	if s, ok := info.Output("spatial"); ok && len(s.Shape) != 2 {
		add("output \"spatial\" has shape %s, want [N,S]", shapeString(s.Shape))
	}
}

func nonEmpty(s []string) []string {
	var out []string
	for _, v := range s {
		if v != "" {
			out = append(out, fmt.Sprintf("%q", v))
		}
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

func describe(ts []TensorInfo) string {
	if len(ts) == 0 {
		return "none"
	}
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t.Name + " " + shapeString(t.Shape)
	}
	return strings.Join(parts, ", ")
}

func dimString(d int64) string {
	if d < 0 {
		return "a dynamic number of"
	}
	return strconv.FormatInt(d, 10)
}
