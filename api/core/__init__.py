"""What every part of the service uses: settings, the service object, keys, storage, problems, bodies, limits."""
