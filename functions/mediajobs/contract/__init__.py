"""The client contract as code: models of every document clients read and every callable's
request and response, and the generator of contract/schemas (`python -m mediajobs.contract`)."""
