"""Stack configuration, from files to the model components read.

- ``spec``: what a user writes (typed, documented, bounded);
- ``source``: the only reader of config bytes (project files only, bounded YAML);
- ``checks``: every check across fields, each a small function;
- ``resolve`` / ``resolved``: the immutable model components read;
- ``loader``: the pipeline, file -> spec -> checks -> resolved model;
- ``project``: which project a command works on.

Components import ``kubeforge.config.resolved`` only.
"""
