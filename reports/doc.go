// Package reports turns results documents (docs/results.md) into what people
// paste into papers and pull requests: paper-style tables (terminal,
// Markdown, LaTeX with booktabs), plots (PNG and SVG), image grids of
// samples, and one self-contained HTML page.
//
// The package is opinionated about one thing: it never recomputes a metric.
// Every number it prints is read from a results document; the only
// arithmetic here is formatting (rounding, the half-width of an interval,
// exp() of the nats form of IS/CIS when a document lacks the exp form).
// Table layout lives in table.go and the renderers in render.go, apart from
// any statistics, which belong to package metrics.
package reports
