"""Processing on upload: images a user puts under users/{uid}/auto/{preset}/ become photo jobs."""
