"""Safe model files: the container, the object codec and the allow-list.

:mod:`tsrnn.persistence` is the public face of this package; the modules here sit
below every estimator and import none of them (classes are named by dotted path
and resolved at load time), so that the package has no import cycle.

* :mod:`~tsrnn.modelfile.atomic`: atomic, safe writes of a file;
* :mod:`~tsrnn.modelfile.container`: the zip archive, its checksums and seal,
  and reading it with bounded memory and time;
* :mod:`~tsrnn.modelfile.codec`: the object tree to JSON and ``.npy`` arrays, and back;
* :mod:`~tsrnn.modelfile.frequency`: frequency strings as the running pandas spells them;
* :mod:`~tsrnn.modelfile.registry`: the classes a file may name;
* :mod:`~tsrnn.modelfile.schema`: checks of a loaded estimator's attributes;
* :mod:`~tsrnn.modelfile.io`: ``save``, ``load`` and ``SaveMixin``.
"""
