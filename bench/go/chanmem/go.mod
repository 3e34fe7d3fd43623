module weftbench/chanmem

go 1.19
