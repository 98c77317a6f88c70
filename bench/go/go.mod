module gorun-bench-go

go 1.19
