// Package spec reads fokker problem specifications: TOML documents that
// describe a grid, a model (drift, diffusion, convention), an initial
// density, a time span, solver settings and outputs.
//
// Parsing is strict: unknown keys, wrong types, wrong array lengths and
// impossible values are errors naming the file, the line and the field, e.g.
//
//	ou2d.toml:9: model.drift: has 3 entries, want one per axis (2)
//
// Package spec only reads and checks the document; package problem turns a
// Spec into the grid, model and solvers it describes. docs/spec.md is the
// reference for every key.
package spec
