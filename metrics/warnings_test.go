package metrics

import "testing"

func TestNeverPredicted(t *testing.T) {
	cases := []struct {
		never   []int
		c       int
		classes []string
		want    string
	}{
		{[]int{1, 2}, 4, []string{"red", "green", "blue", "grey"}, "classifier never predicts (top-1) 2 of 4 classes: green (1), blue (2)"},
		{append([]int{0, 1}, seq(2, 992)...), 1000, []string{"tench", "goldfish"},
			"classifier never predicts (top-1) 992 of 1000 classes: tench (0), goldfish (1), class 2, class 3, class 4, class 5, class 6, class 7, class 8, class 9, … and 982 more"},
		{[]int{3}, 4, []string{}, "classifier never predicts (top-1) 1 of 4 classes: class 3"},
		{[]int{3, 5}, 6, nil, "classifier never predicts (top-1) class 3, 5 of 6"},
	}
	for _, c := range cases {
		w := NeverPredicted(c.never, c.c, c.classes)
		if w.Detail != c.want || w.Code != CodeNeverPredicted || len(w.Classes) != len(c.never) {
			t.Errorf("got  %+v\nwant %q", w, c.want)
		}
	}
}

func seq(a, b int) []int {
	var out []int
	for i := a; i < b; i++ {
		out = append(out, i)
	}
	return out
}
