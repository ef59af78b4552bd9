// Placeholder: the real widget is built on another branch. This file only
// exists so that handlers' //go:embed web compiles; drop it on merge.
