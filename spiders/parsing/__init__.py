"""Reading pages: site layouts, field parsers and the one time parser, shared by the spiders and `yuqing extract`."""
