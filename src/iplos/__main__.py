from iplos.cli import main

main()
