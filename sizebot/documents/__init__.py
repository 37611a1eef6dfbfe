"""The documents: typed, frozen records of what sizebot measured (analyze, diff, image, image diff,
report, measurement). Analysis and compare produce them; render only reads them. They import
nothing of sizebot but units and errors."""
