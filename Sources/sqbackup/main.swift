print("sqbackup")
