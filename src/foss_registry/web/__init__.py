"""The reviewer and requester web pages: a thin edge over the same services as the API.

Server-rendered Jinja2 templates with htmx for partial updates; every asset
(the stylesheet, htmx and a small script) is served by the product itself.
"""
