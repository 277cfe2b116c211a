"""What every app's tests share: the named people (`personas`) and running calls at once (`races`)."""
