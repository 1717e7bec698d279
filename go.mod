module github.com/evidence-pack/evidence

go 1.26.0

require (
	github.com/BurntSushi/toml v1.6.0 // indirect
	golang.org/x/time v0.16.0 // indirect
)
