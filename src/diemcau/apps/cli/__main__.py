from diemcau.apps.cli import main

main()
