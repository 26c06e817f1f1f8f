// Package config reads newsletter.toml: the settings of the tool, their
// defaults, their checks (a setting out of its range or misspelt is an
// error that names it, with the nearest known setting as a suggestion), and
// the commented file `newsletter init` writes.
package config
