package pipeline

import (
	"reflect"
	"strings"
)

// fieldIsInt reports whether the struct v points to has a field whose yaml
// tag is key (ok), and whether that field holds an integer (or a pointer to
// one).
func fieldIsInt(v any, key string) (isInt, ok bool) {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := 0; i < t.NumField(); i++ {
		tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if tag != key || tag == "-" {
			continue
		}
		ft := t.Field(i).Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch ft.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			return true, true
		}
		return false, true
	}
	return false, false
}
