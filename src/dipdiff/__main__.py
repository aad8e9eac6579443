from dipdiff.entry import main

main()
