package pipeline

import (
	"reflect"
	"strings"
)

// hasField reports whether the struct v points to has a field whose yaml
// tag is key.
func hasField(v any, key string) bool {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := 0; i < t.NumField(); i++ {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag == key {
			return true
		}
	}
	return false
}
