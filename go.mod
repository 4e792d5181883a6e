module github.com/pipelab/pipelab

go 1.26.8

require (
	github.com/elastic/go-perf v0.0.0-20260224073651-af0ee0c731b7
	github.com/google/pprof v0.0.0-20261016150608-1facf8f91b50
	golang.org/x/perf v0.0.0-20260908200009-22c9c6c9d4da
	golang.org/x/sys v0.49.0
)

require github.com/aclements/go-moremath v0.0.0-20210112150236-f10218a38794 // indirect
