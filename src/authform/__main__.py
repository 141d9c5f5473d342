"""``python -m authform``: the same command line as the ``authform`` script."""

from authform.entry import main

if __name__ == "__main__":
    main()
