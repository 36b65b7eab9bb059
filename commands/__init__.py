"""Entry points: the `yuqing` command, `serve`, the patrol and its crawl process. They wire the parts
together for a person or a clock; they may import everything and nothing imports them."""
