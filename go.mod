module github.com/dcc-build/dcc

go 1.26.8

require (
	github.com/klauspost/cpuid/v2 v2.0.12 // indirect
	github.com/mitchellh/go-homedir v1.1.0 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	github.com/zeebo/blake3 v0.2.4 // indirect
)
