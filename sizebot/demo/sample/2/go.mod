module example.com/demo

go 1.21

require example.com/quotes v0.1.0

replace example.com/quotes => ./third_party/quotes
