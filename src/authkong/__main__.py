"""`python -m authkong`: the same command as the `authkong` console script."""

from authkong.cli import main

if __name__ == "__main__":  # spawned worker processes import this module too
    main(prog_name="authkong")
