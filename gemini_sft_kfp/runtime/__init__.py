"""What runs inside every task: the component image and its decorator (``image``), and
the program the compiled YAML runs, which loads the installed component (``task``)."""
