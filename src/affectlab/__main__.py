from affectlab.cli import main

main()
