from dipdiff.cli import main

main()
